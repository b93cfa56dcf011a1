// `npm start`: the platform's main job on embedded defaults. Grows with the Quickstart issue.
console.log('bpfleet: the quickstart (edge + local device) is not assembled yet.');
console.log('What exists so far: the bpfleet CLI (npx bpfleet --help) and the test suite (npm test).');
