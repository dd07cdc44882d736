export { findFreePort as freePort } from '../../src/local-kafka/free-port.js';
