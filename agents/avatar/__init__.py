"""The avatar agent (issue 10, seed 000 "EuVatar"): a conversational AgentSession whose voice drives a
LiveAvatar avatar. `conversation` holds what runs without a room (persona, media triggers, usage),
`commands` the frontend's session commands, `job` the room glue the worker calls."""
