"""The 综合柜员's tools: the web terminal (`/login`, `/counter`; see `web.py`) and the terminal
client `python -m counter_client` for hardware keypads (呼叫器) and scripts.

Nothing happens at import: the terminal client must start without Flask being set up.
"""
