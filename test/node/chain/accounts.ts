import { HDNodeWallet, type Provider } from "ethers";

// Hardhat's simulated network funds the accounts of this well-known test mnemonic. Wallets built
// from it sign locally, as the node does with its key, instead of asking the node to sign.
const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";

export function localWallet(index: number, provider: Provider): HDNodeWallet {
  return HDNodeWallet.fromPhrase(HARDHAT_MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`).connect(
    provider,
  );
}
