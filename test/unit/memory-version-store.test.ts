import { MemoryVersionStore } from '../../functions/src/adapters/memory-version-store.ts';
import { versionStoreContract } from '../support/version-store-contract.ts';

const store = new MemoryVersionStore();
versionStoreContract('memory', () => store);
