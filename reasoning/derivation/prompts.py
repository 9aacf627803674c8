"""The derivation loop's prompts (write, feedback, continue, empty) and the grammar its replies are decoded under."""

#: One equation per line, plain math characters only (what solvers.symbolic reads as plain text).
EQUATIONS_GRAMMAR = r"""root ::= line+
line ::= side "=" side "\n"
side ::= [-+*/^() .0-9a-z]+
"""
#: One equation and its newline (mode="stepwise": a reply is the next line).
LINE_GRAMMAR = r"""root ::= side "=" side "\n"
side ::= [-+*/^() .0-9a-z]+
"""

WRITE_PROMPT = """Write a derivation: a sequence of equations, one per line, from the premise to the goal.
Each equation must follow from the one before it by one algebraic operation (substitute a definition,
expand, move a term to the other side, divide both sides, factor). Use * for multiplication and ^ for powers.
The last line must be the goal equation.

Example.
Premises: {example_premises}
Goal: {example_goal}
Derivation:
{example_steps}

Premises: {premises}
Goal: {goal}
Derivation:
"""

FEEDBACK_PROMPT = """The line {index} of your derivation, "{line}", {problem}
Keep the lines before it and write the derivation again from line {index} on, one equation per line."""
UNFINISHED_PROMPT = """Every line follows, but the last line is not the goal {goal}.
Continue the derivation from the last line until the goal, one equation per line."""
EMPTY_PROMPT = """Your reply held no equation. Write the derivation, one equation per line."""
#: mode="stepwise": the user's turn after each accepted line (the line itself is the model's turn before it)
NEXT_LINE_PROMPT = "Next line."
