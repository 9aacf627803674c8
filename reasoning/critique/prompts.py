"""DeepCritic's prompts (worded as in RUCBM/DeepCritic where they come from it) and the grammar of a judgement asked again."""

#: a judgement asked again (the critique was cut off before its box) is decoded under this grammar
JUDGEMENT_GRAMMAR = 'root ::= "1" | "-1"'

JUDGEMENT_AGAIN_PROMPT = "Give your final judgement on Step {index}: 1 if it is correct, -1 if it is incorrect."

INITIAL_PROMPT = """You are a math expert and are tasked with evaluating the solution path for a mathematical problem.
The solution is presented as a step-by-step chain of thought.
Each step is separated with the index indicator "Step i:", with i indexed starting from 1.
You are required to only critique the specific step carefully and comprehensively.
You need to thoroughly consider the logical consistency of the specified step with the problem statement and previous steps, ensuring each step aligns with the overall and correct objective.
You should consider the cases where the steps are merely irrelevant transitions as correct if there is no critical information missing.
For steps involving numerical calculations, carefully verify the accuracy of the calculations to ensure all results are correct.
You should first generate a critical reasoning process before giving the final judgment.

##Format for Evaluation##
For each specified step in the solution path, perform your evaluation by following the below format:
**Critique of Step <current_step>**: First generate a detailed reasoning thought to evaluate the step.
**Judgement**: Based on the above critique, give your final judgement in the form of "#### The correctness of Step <current_step> is: \\boxed{{1|-1}}", where 1 represents correct and -1 represents incorrect. The judgement result should be either 1 or -1.

<Problem>
{problem}
</Problem>

<Solution Path>
{solution}
</Solution Path>
{evidence}
Now, please critique Step {index} in the above solution path."""

SECOND_LOOK_PROMPT = """You are a math expert and are tasked with evaluating the critique for a specific step in a solution to a mathematical problem.
You will be given the problem, the solution path, and the critique for a specified step in the solution path.
You need to critique the critique for the specified step and provide your judgement on whether the critique is correct or incorrect, and then determine the final correctness of the specified step.
You need to think about how you would approach evaluating the step if you were asked to do so, without referring to the original critique.
You can either re-evaluate the specified step using different valid approaches or from different perspectives than the original critique to see if different methods can reach the same conclusion; or alternatively, you can critique the original critique itself to check if it is correct and whether it is fair and reasonable.
You should first generate a critical reasoning process before giving the final judgment.

##Format for Evaluation##
Perform your evaluation to the critique by following the below format:
**Critique of the critique of Step <current_step>**: First generate a detailed critique either by re-evaluating the specified step with different ways or by directly evaluating the original critique of the step.
**Judgement**: Based on the results of original critique and critique's critique, give your final judgement on the correctness of the specified step in the form of "#### The correctness of Step <current_step> is: \\boxed{{1|-1}}", where 1 represents correct and -1 represents incorrect. The judgement result should be either 1 or -1.

<Problem>
{problem}
</Problem>

<Solution Path>
{solution}
</Solution Path>
{evidence}
<Original Critique>
{critique}
</Original Critique>

Now, please critique the original critique of the Step {index} and give your final judgement on the correctness of Step {index}."""

SOLVE_PROMPT = """Solve the problem step by step. Write each step on its own line, starting with "Step i:" (i from 1).
In the last step, write "Final answer: <answer>".

Problem: {problem}"""

REFINE_PROMPT = """Problem: {problem}

A solution was written step by step:
{solution}

A careful check found that Step {index} is wrong:
{critique}

Steps 1 to {kept} are correct; keep them as they are. Rewrite the solution from Step {index} on, fixing the error.
Write each step on its own line, starting with "Step i:", and write the whole solution from Step 1.
In the last step, write "Final answer: <answer>"."""

#: refine_from="error": the correct steps stay as written (in code); the model writes from the wrong one on
REFINE_FROM_ERROR_PROMPT = """Problem: {problem}

The solution so far (these steps are correct):
{kept}

The next step was written as:
Step {index}: {wrong}
A careful check found it wrong:
{critique}

Write Step {index} again, correctly, then the remaining steps to the answer, each on its own line starting with
"Step i:", numbering on from Step {index}. In the last step, write "Final answer: <answer>"."""

# --- the scored verdict (issue 21): a short check, then "Step i is correct" / "incorrect" scored ---

SCORED_SYSTEM = "You are a math expert. A step is incorrect if its calculation is wrong, it misreads the problem, or it does not follow from the steps before it."

#: the problem and the solution: the shared prefix of every step's prompt (the backend reuses it)
SCORED_CONTEXT = """<Problem>
{problem}
</Problem>

<Solution Path>
{solution}
</Solution Path>
{evidence}"""

SCORED_CHECK = "Check Step {index} briefly: recompute its numbers and say whether it follows from the problem and the steps before it."

SCORED_QUESTION = "Is Step {index} correct or incorrect?"

#: the verdict cue the two alternatives share; then " correct" or " incorrect" is scored
VERDICT_CUE = "Step {index} is"

# --- the surprise verdict (issue 21): the solution read as the model's own answer to the problem ---

SURPRISE_SYSTEM = "You are a math expert."

SURPRISE_REQUEST = """Solve the problem step by step. Write each step on its own line, starting with "Step i:".

{problem}"""
