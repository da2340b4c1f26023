"""Works to searchable state: the catalog of creators and works (SQLAlchemy), vector indexes
(FAISS), snapshots, registration and removal. Knows nothing of HTTP."""
