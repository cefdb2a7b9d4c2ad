"""The 综合柜员's tools: the web terminal `/counter` (`web.py`, a server page; sign-in is
`queue_server/staff/`) and the terminal client `python -m counter_client` for hardware keypads
(呼叫器) and scripts (`terminal.py`, `__main__.py`), which runs on a PC without the server.

Nothing happens at import: the terminal client must start without Flask installed.
"""
