"""Side-by-side benchmarks: ``lettr_async``/``lettr_sync`` against Lettr's SDK and raw aiohttp.

Run ``python -m benchmarks`` (``--help`` for options). Servers run in
separate processes; contenders of a scenario run interleaved, round by
round, after a warm-up. Results print as Markdown and go to a JSON file.
Nothing is installed by the harness: Lettr's SDK comes from the ``bench``
extra (``pip install -e '.[bench]'``).
"""
