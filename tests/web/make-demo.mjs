// make-demo.mjs - builds the demo database the browser tests copy (the
// web.demo step of ctest, run once before them).
import { buildDemo, DEMO_DB } from "./harness.mjs";

const t0 = Date.now();
buildDemo(DEMO_DB);
console.log(`demo database for the browser tests: ${DEMO_DB} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
