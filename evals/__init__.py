"""The benchmark eval runner: resumable, cached, parallel; one file per benchmark."""
