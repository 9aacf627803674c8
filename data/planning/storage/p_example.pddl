(define (problem storage-example)
(:domain Storage-Propositional)
(:objects
	depot1-1-1 depot1-1-2 depot1-1-3 container-0-0 container-0-1 - storearea
	hoist0 - hoist
	crate0 crate1 - crate
	container0 - container
	depot1 - depot
	loadarea - transitarea)

(:init
	(connected depot1-1-1 depot1-1-2)
	(connected depot1-1-2 depot1-1-1)
	(connected depot1-1-2 depot1-1-3)
	(connected depot1-1-3 depot1-1-2)
	(in depot1-1-1 depot1)
	(in depot1-1-2 depot1)
	(in depot1-1-3 depot1)
	(on crate0 container-0-0)
	(on crate1 container-0-1)
	(in crate0 container0)
	(in crate1 container0)
	(in container-0-0 container0)
	(in container-0-1 container0)
	(connected loadarea container-0-0)
	(connected container-0-0 loadarea)
	(connected loadarea container-0-1)
	(connected container-0-1 loadarea)
	(connected depot1-1-1 loadarea)
	(connected loadarea depot1-1-1)
	(clear depot1-1-1)
	(clear depot1-1-2)
	(at hoist0 depot1-1-3)
	(available hoist0))

(:goal (and
	(in crate0 depot1)
	(in crate1 depot1)))
)
