/**
 * SpreadsheetApp.getUi(). Nobody sits at the emulator's script editor: menus are accepted and
 * not shown, alerts are logged, and a prompt is answered with CANCEL and empty text, so a
 * script's "set up from the menu" path runs and gives up the way a cancelled dialog does.
 */
export function createUi(log: (message: string) => void) {
  const menu = {
    addItem: () => menu,
    addSeparator: () => menu,
    addSubMenu: () => menu,
    addToUi: () => undefined,
  };
  const Button = { OK: 'OK', CANCEL: 'CANCEL', YES: 'YES', NO: 'NO', CLOSE: 'CLOSE' };
  return {
    createMenu: () => menu,
    createAddonMenu: () => menu,
    alert: (...parts: unknown[]) => {
      log(`alert: ${parts.filter((p) => typeof p === 'string').join(' ')}`);
      return Button.OK;
    },
    prompt: (...parts: unknown[]) => {
      log(`prompt (answered CANCEL): ${parts.filter((p) => typeof p === 'string').join(' ')}`);
      return { getSelectedButton: () => Button.CANCEL, getResponseText: () => '' };
    },
    ButtonSet: { OK: 'OK', OK_CANCEL: 'OK_CANCEL', YES_NO: 'YES_NO', YES_NO_CANCEL: 'YES_NO_CANCEL' },
    Button,
  };
}
