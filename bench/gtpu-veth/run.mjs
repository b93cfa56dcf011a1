// Runs the GTP-U veth throughput benchmark (its code lives beside the per-packet one) for npm run bench.
import '../programs/gtpu-veth.mjs';
