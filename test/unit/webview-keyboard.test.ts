import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gridMove, keyToCommand } from '../../webview/keyboard';

test('arrows step, Home resets, End runs to the end', () => {
  assert.equal(keyToCommand({ key: 'ArrowLeft' }), 'stepBack');
  assert.equal(keyToCommand({ key: 'ArrowRight' }), 'stepForward');
  assert.equal(keyToCommand({ key: 'Home' }), 'reset');
  assert.equal(keyToCommand({ key: 'End' }), 'runToEnd');
  assert.equal(keyToCommand({ key: 'a' }), undefined);
  assert.equal(keyToCommand({ key: 'ArrowRight', target: { tagName: 'BUTTON' } }), 'stepForward');
});

test('modifiers, form fields, tabs and grids keep their keys', () => {
  assert.equal(keyToCommand({ key: 'ArrowRight', ctrlKey: true }), undefined);
  assert.equal(keyToCommand({ key: 'ArrowRight', metaKey: true }), undefined);
  assert.equal(keyToCommand({ key: 'End', shiftKey: true }), undefined);
  assert.equal(keyToCommand({ key: 'ArrowLeft', altKey: true }), undefined);
  assert.equal(keyToCommand({ key: 'ArrowLeft', target: { tagName: 'input' } }), undefined);
  assert.equal(keyToCommand({ key: 'Home', target: { tagName: 'SELECT' } }), undefined);
  assert.equal(keyToCommand({ key: 'End', target: { isContentEditable: true } }), undefined);
  assert.equal(keyToCommand({ key: 'ArrowRight', target: { role: 'tab' } }), undefined);
  assert.equal(keyToCommand({ key: 'ArrowRight', target: { inComposite: true } }), undefined);
});

test("keys in the UI toolkit's fields (seen at their host element) are theirs, a toolkit button's are not", () => {
  assert.equal(
    keyToCommand({ key: 'Home', target: { tagName: 'VSCODE-DROPDOWN', role: 'combobox' } }),
    undefined,
  );
  assert.equal(keyToCommand({ key: 'ArrowLeft', target: { tagName: 'vscode-text-field' } }), undefined);
  assert.equal(keyToCommand({ key: 'ArrowLeft', target: { tagName: 'DIV', role: 'combobox' } }), undefined);
  assert.equal(keyToCommand({ key: 'ArrowDown', target: { role: 'gridcell' } }), undefined);
  assert.equal(keyToCommand({ key: 'ArrowRight', target: { role: 'gridcell' } }), undefined);
  assert.equal(keyToCommand({ key: 'ArrowRight', target: { tagName: 'VSCODE-BUTTON' } }), 'stepForward');
  assert.equal(
    keyToCommand({ key: 'End', target: { tagName: 'VSCODE-PANEL-VIEW', role: 'tabpanel' } }),
    'runToEnd',
  );
});

test('focus moves inside the head grid and stops at its ends', () => {
  assert.equal(gridMove('ArrowRight', 0, 12, 4), 1);
  assert.equal(gridMove('ArrowDown', 1, 12, 4), 5);
  assert.equal(gridMove('ArrowUp', 1, 12, 4), 0);
  assert.equal(gridMove('ArrowLeft', 0, 12, 4), 0);
  assert.equal(gridMove('ArrowDown', 10, 12, 4), 11);
  assert.equal(gridMove('End', 3, 12, 4), 11);
  assert.equal(gridMove('Home', 3, 12, 4), 0);
  assert.equal(gridMove('Enter', 3, 12, 4), undefined);
});
