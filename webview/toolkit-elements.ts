/**
 * The UI toolkit's components the panel uses, defined once: the registration half of toolkit.ts
 * (replace both to replace the kit). Imported by main.ts alone, so Node never evaluates the kit.
 */
// A static import with named bindings: the bundle keeps only these components (through a dynamic
// import esbuild would keep the whole FAST foundation, ≈ 120 kB more minified).
import {
  provideVSCodeDesignSystem,
  vsCodeButton,
  vsCodeDataGrid,
  vsCodeDataGridCell,
  vsCodeDataGridRow,
  vsCodeDropdown,
  vsCodeOption,
  vsCodePanels,
  vsCodePanelTab,
  vsCodePanelView,
  vsCodeProgressRing,
} from '@vscode/webview-ui-toolkit';

/** Define the kit's custom elements (idempotent). */
export function defineToolkit(): void {
  if (customElements.get('vscode-button')) return;
  provideVSCodeDesignSystem().register(
    vsCodeButton(),
    vsCodeDropdown(),
    vsCodeOption(),
    vsCodePanels(),
    vsCodePanelTab(),
    vsCodePanelView(),
    vsCodeDataGrid(),
    vsCodeDataGridRow(),
    vsCodeDataGridCell(),
    vsCodeProgressRing(),
  );
}
