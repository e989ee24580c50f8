// Small inline SVG icons for the canvas and the palette: one per step
// category (Lever, Logic, HTTP, Timing), a few per step type, and the
// trigger. They inherit currentColor and are decorative (aria-hidden).
import type { ReactElement } from 'react';

type Glyph = ReactElement;

const glyphs: Record<string, Glyph> = {
  // A briefcase: Lever (the ATS).
  lever: (
    <>
      <rect x="3" y="7" width="18" height="13" rx="2" />
      <path d="M9 7V5a1 1 0 0 1 1-1h4a1 1 0 0 1 1 1v2M3 12h18" />
    </>
  ),
  // Forking arrows: logic.
  logic: (
    <>
      <path d="M6 3v6a4 4 0 0 0 4 4h4a4 4 0 0 1 4 4v4" />
      <path d="M6 9v12" />
      <circle cx="6" cy="3" r="1.5" />
    </>
  ),
  // A diamond: condition.
  condition: <path d="M12 3l9 9-9 9-9-9z M12 8v5 M12 16v.5" />,
  // Three outgoing lines: switch.
  switch: (
    <>
      <path d="M4 12h5M9 12l10-7M9 12h10M9 12l10 7" />
      <circle cx="4" cy="12" r="1.5" />
    </>
  ),
  // A loop: for each.
  fanout: (
    <>
      <path d="M4 12a8 8 0 0 1 14-5.3M20 12a8 8 0 0 1-14 5.3" />
      <path d="M18 3v4h-4M6 21v-4h4" />
    </>
  ),
  // Braces: transform.
  transform: <path d="M9 4c-2 0-3 1-3 3v2c0 1.5-1 2.5-2 3 1 .5 2 1.5 2 3v2c0 2 1 3 3 3M15 4c2 0 3 1 3 3v2c0 1.5 1 2.5 2 3-1 .5-2 1.5-2 3v2c0 2-1 3-3 3" />,
  // A globe: HTTP.
  http: (
    <>
      <circle cx="12" cy="12" r="9" />
      <path d="M3 12h18M12 3c2.5 2.5 3.5 5.5 3.5 9s-1 6.5-3.5 9c-2.5-2.5-3.5-5.5-3.5-9s1-6.5 3.5-9z" />
    </>
  ),
  // A reply arrow: respond.
  respond: <path d="M10 8L4 13l6 5M4 13h10a6 6 0 0 1 6 6" />,
  // A clock: timing.
  timing: (
    <>
      <circle cx="12" cy="12" r="9" />
      <path d="M12 7v5l3 2" />
    </>
  ),
  // A lightning bolt: the trigger.
  trigger: <path d="M13 2L4 14h7l-1 8 9-12h-7z" />,
  // A box: anything else.
  other: <rect x="4" y="4" width="16" height="16" rx="3" />,
};

const byType: Record<string, string> = {
  condition: 'condition',
  switch: 'switch',
  fanout: 'fanout',
  transform: 'transform',
  respond: 'respond',
};

const byCategory: Record<string, string> = {
  lever: 'lever',
  logic: 'logic',
  http: 'http',
  timing: 'timing',
  trigger: 'trigger',
};

/** The glyph name for a step type (or 'trigger'), by type first, then category. */
export function iconName(type: string, category: string): string {
  return byType[type] ?? byCategory[category.toLowerCase()] ?? (type.startsWith('lever.') ? 'lever' : 'other');
}

export function Icon({ name, size = 18, className }: { name: string; size?: number; className?: string }) {
  return (
    <svg
      className={className}
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth={1.8}
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      {glyphs[name] ?? glyphs.other}
    </svg>
  );
}

/** The icon of a step type (or pass type 'trigger', category 'trigger'). */
export function StepIcon({ type, category, size, className }: { type: string; category: string; size?: number; className?: string }) {
  return <Icon name={iconName(type, category)} size={size} className={className} />;
}
