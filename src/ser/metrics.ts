/** Classification metrics, laid out like scikit-learn's classification_report. */
import { ValueError } from '../tensor/errors.js';

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface Report {
  accuracy: number;
  /** Unweighted average recall: the mean of per-class recalls (classes with support only). */
  uar: number;
  macroF1: number;
  perClass: ClassMetrics[];
  /** confusion[true][predicted] */
  confusion: number[][];
  n: number;
}

export function evaluate(yTrue: readonly number[], yPred: readonly number[], classes: number): Report {
  if (yTrue.length !== yPred.length) throw new ValueError(`evaluate: ${yTrue.length} labels but ${yPred.length} predictions`);
  if (yTrue.length === 0) throw new ValueError('evaluate: no samples');
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  yTrue.forEach((t, i) => confusion[t]![yPred[i]!]!++);
  const perClass = confusion.map((row, c) => {
    const tp = row[c]!;
    const support = row.reduce((s, v) => s + v, 0);
    const predicted = confusion.reduce((s, r) => s + r[c]!, 0);
    const precision = predicted ? tp / predicted : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { precision, recall, f1, support };
  });
  const present = perClass.filter((m) => m.support > 0);
  const correct = yTrue.reduce((s, t, i) => s + Number(t === yPred[i]), 0);
  return {
    accuracy: correct / yTrue.length,
    uar: present.reduce((s, m) => s + m.recall, 0) / present.length,
    macroF1: present.reduce((s, m) => s + m.f1, 0) / present.length,
    perClass,
    confusion,
    n: yTrue.length,
  };
}

/** The report as text: per-class precision/recall/F1/support, then accuracy, UAR and the confusion matrix. */
export function formatReport(r: Report, names: readonly string[]): string {
  const w = Math.max(12, ...names.map((n) => n.length + 2));
  const f = (v: number) => v.toFixed(3).padStart(10);
  const lines = [`${''.padStart(w)}${'precision'.padStart(10)}${'recall'.padStart(10)}${'f1-score'.padStart(10)}${'support'.padStart(10)}`, ''];
  r.perClass.forEach((m, c) => lines.push(`${names[c]!.padStart(w)}${f(m.precision)}${f(m.recall)}${f(m.f1)}${String(m.support).padStart(10)}`));
  lines.push('', `${'accuracy'.padStart(w)}${''.padStart(20)}${f(r.accuracy)}${String(r.n).padStart(10)}`);
  lines.push(`${'UAR'.padStart(w)}${''.padStart(10)}${f(r.uar)}`);
  lines.push(`${'macro F1'.padStart(w)}${''.padStart(20)}${f(r.macroF1)}`, '', 'confusion matrix (rows: true, columns: predicted)');
  const cw = Math.max(6, ...names.map((n) => Math.min(n.length, 9) + 1));
  lines.push(`${''.padStart(w)}${names.map((n) => n.slice(0, 9).padStart(cw)).join('')}`);
  r.confusion.forEach((row, c) => lines.push(`${names[c]!.padStart(w)}${row.map((v) => String(v).padStart(cw)).join('')}`));
  return lines.join('\n');
}
