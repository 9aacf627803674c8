(define (problem manipulation-example)
(:domain manipulation)
(:objects
kitchen-counter dining-table bookshelf - location
coffee-mug apple - object)
(:init
(= (total-cost) 0)
(= (distance kitchen-counter kitchen-counter) 0)
(= (distance dining-table dining-table) 0)
(= (distance bookshelf bookshelf) 0)
(= (distance kitchen-counter dining-table) 5)
(= (distance dining-table kitchen-counter) 5)
(= (distance kitchen-counter bookshelf) 15)
(= (distance bookshelf kitchen-counter) 15)
(= (distance dining-table bookshelf) 8)
(= (distance bookshelf dining-table) 8)
(robot-at kitchen-counter)
(at coffee-mug bookshelf)
(at apple kitchen-counter)
(hand-empty)
)
(:goal
(and
(at coffee-mug dining-table)
(at apple dining-table)
)
)
(:metric minimize (total-cost))
)
