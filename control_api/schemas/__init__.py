"""Request and response models shared by several routers (each router keeps its own otherwise)."""
