"""Live push over Socket.IO: one namespace per kind of client, emits after commit."""
