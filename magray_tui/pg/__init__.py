"""The memory store on PostgreSQL + pgvector (`[store] url`): a second implementation of
the memory's repository, write and index seams (see `magray_tui.memory.protocols`), not a
fork. Tasks and chat stay in the home's own DuckDB file (see README: "Team memory").

Modules: `url` (masking, naming the server), `connection` (connections per thread,
reconnect, one transaction, errors as one line), `schema` (server-side migrations),
`vectors` (pgvector adapters), `repository` (reads), `writes` (the commit's writes),
`indexes` (search in the server), `store` (the database the memory service opens).
"""
