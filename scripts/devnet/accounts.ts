/**
 * The accounts of a Hardhat development chain: derived from Hardhat's well-known test mnemonic, so
 * the devnet can give each node its own key without asking the chain. The keys are public; they
 * hold value only on local chains.
 */
import { HDNodeWallet } from "ethers";

const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";

export interface DevAccount {
  index: number;
  address: string;
  privateKey: string;
}

/** Account `index` of Hardhat's default list (0 deploys the contracts). */
export function devAccount(index: number): DevAccount {
  const wallet = HDNodeWallet.fromPhrase(HARDHAT_MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`);
  return { index, address: wallet.address, privateKey: wallet.privateKey };
}

/** Hardhat's node funds this many accounts with ether. */
export const DEV_ACCOUNT_COUNT = 20;
