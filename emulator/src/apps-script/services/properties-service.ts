/**
 * PropertiesService (https://developers.google.com/apps-script/reference/properties).
 * Every call reads or writes the host's store, which is saved with the spreadsheet, so
 * concurrent executions see each other's writes as they do on Google. Values are strings.
 */
import type { HostCall } from '../host-call.ts';
import type { PropertyStore } from '../protocol.ts';

export function createPropertiesService(
  call: HostCall,
  spreadsheetId: string,
  toScript: (value: unknown) => unknown,
) {
  const store = (kind: PropertyStore) => {
    const read = () => call('properties.read', spreadsheetId, kind);
    const write = (set: Record<string, string>, remove: string[] | 'all') =>
      call('properties.write', spreadsheetId, kind, set, remove);
    const properties = {
      getProperty: (key: string) => read()[String(key)] ?? null,
      getProperties: () => toScript(read()),
      getKeys: () => toScript(Object.keys(read())),
      setProperty(key: string, value: unknown) {
        write({ [String(key)]: String(value) }, []);
        return properties;
      },
      setProperties(values: Record<string, unknown>, deleteAllOthers = false) {
        const set: Record<string, string> = {};
        for (const [key, value] of Object.entries(values)) set[key] = String(value);
        write(set, deleteAllOthers ? 'all' : []);
        return properties;
      },
      deleteProperty(key: string) {
        write({}, [String(key)]);
        return properties;
      },
      deleteAllProperties() {
        write({}, 'all');
        return properties;
      },
    };
    return properties;
  };
  return {
    getScriptProperties: () => store('script'),
    getDocumentProperties: () => store('document'),
    getUserProperties: () => store('user'),
  };
}
