// The key legend at the bottom of a view.

import { Text } from 'ink';

export function KeyHelp({ keys }: { keys: readonly (readonly [string, string])[] }) {
  return (
    <Text wrap="truncate">
      {keys.map(([k, what], i) => (
        <Text key={k}>
          {i > 0 ? '  ' : ''}
          <Text bold color="cyan">{k}</Text> {what}
        </Text>
      ))}
    </Text>
  );
}
