/** Protocol id of the block exchange; the major version changes with any incompatible wire change. */
export const BLOCK_EXCHANGE_PROTOCOL = "/holdfast/blockexchange/1.0.0";
