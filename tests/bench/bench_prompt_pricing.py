"""Benchmark `tokenworth price`: encoding build time, counting speed, pricing on the default models.

Run from the repository root: `python tests/bench/bench_prompt_pricing.py [--megabytes N]`.
Prints one line per figure; no network is used (encodings come from the bundled files).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "app"))

from tokenworth.core.pricing import PriceBook
from tokenworth.core.tokens import clear_encoding_cache, count_tokens, get_encoding
from tokenworth.services.prompt_pricing import default_models, price_prompt

WORDS = (  # noqa: SIM905 - a sentence of sample words reads better than a 60-line list
    "the model prompt token cost value task review refactor database migration function return "
    "import class def async await error message context window cache read write output input "
    "Tokenworth 数据 東京 naïve café 🚀 1234 3.14 {}[]() => -> :: == != <= >= // /* */"
).split()


def sample_text(megabytes: float, seed: int = 7) -> str:
    """Deterministic prose-and-code-like text of about `megabytes` MB."""
    rng = random.Random(seed)
    lines: list[str] = []
    size = 0
    target = int(megabytes * 1_000_000)
    while size < target:
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 16)))
        if rng.random() < 0.3:
            line = "    " + line.replace(" ", "_", 2) + ";"
        lines.append(line)
        size += len(line.encode()) + 1
    return "\n".join(lines)


def best_of(runs: int, action: object) -> float:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        action()  # type: ignore[operator]
        timings.append(time.perf_counter() - start)
    return min(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--megabytes", type=float, default=5.0, help="size of the counted text")
    args = parser.parse_args()

    for name in ("o200k_base", "cl100k_base"):

        def build(name: str = name) -> None:
            clear_encoding_cache()
            get_encoding(name)

        print(f"build {name} from the bundled file: {best_of(3, build) * 1000:,.0f} ms (best of 3)")

    text = sample_text(args.megabytes)
    megabytes = len(text.encode()) / 1e6
    for name in ("o200k_base", "cl100k_base"):
        get_encoding(name)
        start = time.perf_counter()
        counted = count_tokens(text, name)
        elapsed = time.perf_counter() - start
        print(
            f"count {name}: {counted:,} tokens in {megabytes:.1f} MB, {elapsed:.2f} s, "
            f"{counted / elapsed / 1e6:.2f} M tokens/s"
        )

    book = PriceBook()
    models = default_models(book)
    prompt = text[:100_000]
    price_prompt(prompt, models=models, book=book)  # warm the price lookups
    elapsed = best_of(5, lambda: price_prompt(prompt, models=models, book=book))
    print(f"price a 100 kB prompt on {len(models)} default models (encodings loaded): {elapsed * 1000:,.1f} ms")


if __name__ == "__main__":
    main()
