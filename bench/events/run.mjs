// npm run bench picks up bench/<name>/run.mjs: the events benchmark lives beside the agent's (bench/agent/events.mjs).
import '../agent/events.mjs';
