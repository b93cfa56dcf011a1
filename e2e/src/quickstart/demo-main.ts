// Entry of `npm run demo`: the scripted story; exit 0 when every step held, 1 with the reason otherwise.
import { runDemo } from './demo-story.js';
import { runMain } from './run-main.js';

runMain('bpfleet demo', (ctx) => runDemo(ctx));
