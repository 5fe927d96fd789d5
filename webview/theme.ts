/**
 * The current VS Code theme as the color scales need it, and a watcher that reports theme changes
 * (VS Code swaps the body's `vscode-light`/`vscode-dark`/`vscode-high-contrast` class and the
 * `--vscode-*` variables on <html> when the user changes theme).
 */
import { themeColors, type ThemeColors } from './color';

export function readTheme(): ThemeColors {
  const css = getComputedStyle(document.documentElement);
  return themeColors(
    document.body.classList,
    css.getPropertyValue('--vscode-editor-background'),
    css.getPropertyValue('--vscode-disabledForeground'),
    css.getPropertyValue('--vscode-descriptionForeground'),
  );
}

/** Call `onChange` with the new theme whenever the body class or the theme variables change. */
export function watchTheme(onChange: (theme: ThemeColors) => void): () => void {
  let last = JSON.stringify(readTheme());
  const observer = new MutationObserver(() => {
    const theme = readTheme();
    const key = JSON.stringify(theme);
    if (key === last) return;
    last = key;
    onChange(theme);
  });
  observer.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
  return () => observer.disconnect();
}
