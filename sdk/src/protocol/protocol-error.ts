// The error of a device message that does not match the protocol.
import { BpfleetError } from '../errors.js';

export class ProtocolError extends BpfleetError {}
