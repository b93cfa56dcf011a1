// Runs the connect-guard per-connect() benchmark (its code lives beside the per-packet one) for npm run bench.
import '../programs/connect-guard.mjs';
