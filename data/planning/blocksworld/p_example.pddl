(define (problem bw-example)
(:domain blocksworld-4ops)
(:objects b1 b2 b3 b4)
(:init
(arm-empty)
(on b3 b1)
(on-table b1)
(on-table b2)
(on b4 b2)
(clear b3)
(clear b4)
)
(:goal
(and
(on b1 b4)
(on b2 b3))
)
)
