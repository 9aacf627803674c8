(define (problem gripper-example)
(:domain gripper-strips)
(:objects robot1 - robot
lgripper1 rgripper1 - gripper
room1 room2 room3 - room
ball1 ball2 ball3 - object)
(:init
(at-robby robot1 room1)
(free robot1 lgripper1)
(free robot1 rgripper1)
(at ball1 room1)
(at ball2 room2)
(at ball3 room3)
)
(:goal
(and
(at ball1 room3)
(at ball2 room1)
(at ball3 room3)
)
)
)
