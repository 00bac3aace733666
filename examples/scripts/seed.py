"""A maintenance script: asyncio.run under the __main__ guard is how scripts start a loop."""

import asyncio

from app.client import fetch_user


async def main() -> None:
    print(await fetch_user(1))


if __name__ == "__main__":
    asyncio.run(main())
