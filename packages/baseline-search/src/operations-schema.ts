// The plan schema for forward.json / rollback.json. It lives in schemas/ like every other
// artifact schema; the contracts package embeds it at build time, so there is one copy.
import { schemasByName } from '@kfm/migration-contracts';

export const searchOperationsSchema = schemasByName['search_operations.v1'];
