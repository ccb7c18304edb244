"""Starts placeCallWorkflow through the Python SDK with its default id reuse policy, waits, prints the result.

The connection comes from the environment (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, ...), as for the TypeScript side.

    python start_again.py --workflow-id ID --task-queue QUEUE --input '{"toPhoneNumber": "+1...", ...}'

Prints one JSON line: {"runId": <the run this start created>, "result": <the workflow's result>}.
"""

import argparse
import asyncio
import json
import os
import sys

from temporalio.client import Client
from temporalio.envconfig import ClientConfig


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workflow-id", required=True)
    parser.add_argument("--task-queue", required=True)
    parser.add_argument("--input", required=True, help="PlaceCallInput as JSON")
    args = parser.parse_args()

    client = await Client.connect(**ClientConfig.load_client_connect_config())
    # No id_reuse_policy: the SDK's default (ALLOW_DUPLICATE) is what the workflow must be safe against.
    handle = await client.start_workflow(
        "placeCallWorkflow",
        json.loads(args.input),
        id=args.workflow_id,
        task_queue=args.task_queue,
    )
    result = await handle.result()
    print(json.dumps({"runId": handle.first_execution_run_id, "result": result}))


if __name__ == "__main__":
    asyncio.run(main())
    # The result is printed. Leave without finalizing the interpreter: the SDK's native runtime crashed it once while
    # it finalized ("Fatal Python error: PyGILState_Release ... finalizing", exit 134 in CI) after a correct result.
    sys.stdout.flush()
    os._exit(0)
