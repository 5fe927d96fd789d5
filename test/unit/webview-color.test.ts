import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NEUTRAL,
  divergingScale,
  luminance,
  pack,
  parseCssColor,
  sequentialScale,
  symmetricExtent,
  themeColors,
  themeKindOf,
  unpack,
} from '../../webview/color';

test('theme kind from the body classes VS Code sets', () => {
  assert.equal(themeKindOf(['vscode-light']), 'light');
  assert.equal(themeKindOf(['vscode-dark']), 'dark');
  assert.equal(themeKindOf(['vscode-high-contrast']), 'high-contrast');
  assert.equal(themeKindOf(['vscode-high-contrast', 'vscode-high-contrast-light']), 'high-contrast-light');
  assert.equal(themeKindOf([]), 'dark', 'no class: VS Code default');
});

test('CSS colors as VS Code writes its variables', () => {
  assert.deepEqual(parseCssColor('#1e1e1e'), { rgb: [30, 30, 30], alpha: 1 });
  assert.deepEqual(parseCssColor(' #FFF '), { rgb: [255, 255, 255], alpha: 1 });
  assert.deepEqual(parseCssColor('#cccccc80')?.rgb, [204, 204, 204]);
  assert.ok(Math.abs(parseCssColor('#cccccc80')!.alpha - 128 / 255) < 1e-9);
  assert.deepEqual(parseCssColor('rgba(204, 204, 204, 0.5)'), { rgb: [204, 204, 204], alpha: 0.5 });
  assert.deepEqual(parseCssColor('rgb(1 2 3 / 50%)'), { rgb: [1, 2, 3], alpha: 0.5 });
  assert.equal(parseCssColor('var(--x)'), undefined);
  assert.equal(parseCssColor(''), undefined);
});

test('theme colors blend the disabled color onto the neutral and fall back when unset', () => {
  const dark = themeColors(['vscode-dark'], '#1f1f1f', 'rgba(204, 204, 204, 0.5)');
  assert.deepEqual(dark.neutral, NEUTRAL.dark);
  assert.deepEqual(dark.background, [31, 31, 31]);
  assert.deepEqual(dark.masked, [124, 124, 124]);
  const light = themeColors(['vscode-light'], '', '');
  assert.deepEqual(light.background, NEUTRAL.light);
  assert.ok(light.masked[0] < 200, 'a visible gray on a light neutral');
  assert.ok(luminance(light.ink) < 0.3, 'fallback ink is dark on light');
  const ink = themeColors(['vscode-dark'], '#000000', '', 'rgba(255, 255, 255, 0.5)').ink;
  assert.deepEqual(ink, [128, 128, 128], 'the description color blended onto the background');
});

test('packing matches ImageData byte order on little-endian machines', () => {
  const word = pack([1, 2, 3]);
  const bytes = new Uint8Array(new Uint32Array([word]).buffer);
  assert.deepEqual([...bytes], [1, 2, 3, 255]);
  assert.deepEqual(unpack(word), [1, 2, 3, 255]);
});

for (const kind of ['vscode-light', 'vscode-dark', 'vscode-high-contrast', 'vscode-high-contrast-light']) {
  test(`diverging scale is centred on the neutral and monotone in contrast (${kind})`, () => {
    const theme = themeColors([kind], '', '');
    const s = divergingScale(theme, 2);
    assert.deepEqual(s.domain, [-2, 2]);
    assert.deepEqual(s.rgb(0), theme.neutral, '0 is the neutral');
    const contrast = (v: number) =>
      Math.abs(luminance(s.rgb(v)) - luminance(theme.neutral)) + dist(s.rgb(v), theme.neutral) / 1000;
    assert.ok(
      contrast(2) > contrast(1) && contrast(1) > contrast(0.1),
      'further from 0 stands out more (positive)',
    );
    assert.ok(
      contrast(-2) > contrast(-1) && contrast(-1) > contrast(-0.1),
      'further from 0 stands out more (negative)',
    );
    assert.notDeepEqual(s.rgb(-2), s.rgb(2), 'signs differ in hue');
    assert.deepEqual(s.rgb(100), s.rgb(2), 'clamped beyond the extent');
    assert.deepEqual(s.rgb(-Infinity), s.rgb(-2));
    assert.deepEqual(s.rgb(NaN), theme.neutral);
    assert.equal(s.color(0), pack(theme.neutral));
  });

  test(`sequential scale starts at the neutral (${kind})`, () => {
    const theme = themeColors([kind], '', '');
    const s = sequentialScale(theme);
    assert.deepEqual(s.rgb(0), theme.neutral);
    assert.ok(dist(s.rgb(1), theme.neutral) > dist(s.rgb(0.5), theme.neutral));
    assert.ok(dist(s.rgb(0.5), theme.neutral) > dist(s.rgb(0.1), theme.neutral));
  });
}

test('symmetric extent ignores non-finite ends and never returns 0', () => {
  assert.equal(symmetricExtent(-3, 2), 3);
  assert.equal(symmetricExtent(0.5, 4), 4);
  assert.equal(symmetricExtent(0, 0), 1);
  assert.equal(symmetricExtent(-Infinity, 2), 2);
});

function dist(a: readonly number[], b: readonly number[]): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}
