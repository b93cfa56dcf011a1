// The DSSE payload type of the signed index (sdk trust's INDEX_PAYLOAD_TYPE once it lands).
export const INDEX_PAYLOAD_TYPE = 'application/vnd.bpfleet.index.v1+json';
