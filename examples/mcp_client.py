"""Ask `ratiocinator mcp serve` for a blocksworld plan and an LP optimum over MCP (stdio), and print the verified results.

    python examples/mcp_client.py

The client is the official MCP SDK's; the server is started as `python -m ratiocinator.cli mcp serve`
(the same as `ratiocinator mcp serve`, for this interpreter). Every answer says whether and how it
was verified; the script exits 1 unless both are.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

from mcp import Client, StdioServerParameters

PROBLEM = """(define (problem three-blocks) (:domain blocksworld)
  (:objects a b c)
  (:init (arm-empty) (on-table a) (on b a) (clear b) (on-table c) (clear c))
  (:goal (and (on a b) (on b c))))"""

LP = """Maximize
 profit: 30 chair + 50 table
Subject To
 wood: chair + 2 table <= 40
 labour: 2 chair + table <= 50
Bounds
 chair >= 0
 table >= 0
End
"""


def answer(result: object, what: str) -> dict:
    """The JSON a ratiocinator tool returns ({"result", "verified", "how"}); a tool error ends the script."""
    text = result.content[0].text  # type: ignore[attr-defined]
    if result.is_error:  # type: ignore[attr-defined]
        sys.exit(f"{what}: {text}")
    return json.loads(text)


async def main() -> int:
    server = StdioServerParameters(command=sys.executable, args=["-m", "ratiocinator.cli", "mcp", "serve"],
                                   env=dict(os.environ))
    async with Client(server, read_timeout_seconds=300) as client:
        tools = (await client.list_tools()).tools
        print("tools:", ", ".join(t.name for t in tools))
        plan = answer(await client.call_tool("plan", {"domain": "blocksworld", "problem": PROBLEM}), "plan")
        optimum = answer(await client.call_tool("optimize", {"model_text": LP, "model_format": "lp"}), "optimize")
    print("\nblocksworld plan:")
    for i, step in enumerate(plan["result"]["plan"], 1):
        print(f"  {i}. {step}")
    print(f"  verified: {plan['verified']} ({plan['how']})")
    print(f"\nLP optimum: {optimum['result']['objective']:g} at {optimum['result']['values']}")
    print(f"  verified: {optimum['verified']} ({optimum['how']})")
    return 0 if plan["verified"] and optimum["verified"] else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
