/**
 * The order add-ons are removed in: an add-on before the ones it depends on
 * (the reverse of the order they were installed in), ties by name. A
 * dependency cycle (which Core does not let happen) is broken by name.
 */
export function removalOrder(addons: readonly { name: string; dependencies: readonly { name: string }[] }[]): string[] {
  const remaining = new Map(addons.map((a) => [a.name, a]));
  const order: string[] = [];
  while (remaining.size > 0) {
    const needed = new Set([...remaining.values()].flatMap((a) => a.dependencies.map((d) => d.name)));
    const names = [...remaining.keys()].sort();
    const free = names.filter((n) => !needed.has(n));
    for (const name of free.length > 0 ? free : names.slice(0, 1)) {
      order.push(name);
      remaining.delete(name);
    }
  }
  return order;
}
