"""Ticket printing: render a queue ticket to ESC/POS bytes or a PNG, and send it to a printer."""
