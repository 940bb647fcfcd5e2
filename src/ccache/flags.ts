// Ticket flags as stored in ccaches: a uint32 where RFC 4120 §5.3 bit n is `1 << (31 - n)`.
// The letters and their order are what MIT klist -f prints.

const bit = (n: number): number => (1 << (31 - n)) >>> 0;

/** The flag names, each a number (explicit for JSR's public-API types). */
export type TicketFlagName =
  | 'FORWARDABLE'
  | 'FORWARDED'
  | 'PROXIABLE'
  | 'PROXY'
  | 'MAY_POSTDATE'
  | 'POSTDATED'
  | 'INVALID'
  | 'RENEWABLE'
  | 'INITIAL'
  | 'PRE_AUTHENT'
  | 'HW_AUTHENT'
  | 'TRANSITED_POLICY_CHECKED'
  | 'OK_AS_DELEGATE'
  | 'ENC_PA_REP'
  | 'ANONYMOUS';

export const TicketFlag: Readonly<Record<TicketFlagName, number>> = {
  FORWARDABLE: bit(1),
  FORWARDED: bit(2),
  PROXIABLE: bit(3),
  PROXY: bit(4),
  MAY_POSTDATE: bit(5),
  POSTDATED: bit(6),
  INVALID: bit(7),
  RENEWABLE: bit(8),
  INITIAL: bit(9),
  PRE_AUTHENT: bit(10),
  HW_AUTHENT: bit(11),
  TRANSITED_POLICY_CHECKED: bit(12),
  OK_AS_DELEGATE: bit(13),
  ENC_PA_REP: bit(15),
  ANONYMOUS: bit(16),
};

const LETTERS: ReadonlyArray<readonly [number, string]> = [
  [TicketFlag.FORWARDABLE, 'F'],
  [TicketFlag.FORWARDED, 'f'],
  [TicketFlag.PROXIABLE, 'P'],
  [TicketFlag.PROXY, 'p'],
  [TicketFlag.MAY_POSTDATE, 'D'],
  [TicketFlag.POSTDATED, 'd'],
  [TicketFlag.INVALID, 'i'],
  [TicketFlag.RENEWABLE, 'R'],
  [TicketFlag.INITIAL, 'I'],
  [TicketFlag.HW_AUTHENT, 'H'],
  [TicketFlag.PRE_AUTHENT, 'A'],
  [TicketFlag.TRANSITED_POLICY_CHECKED, 'T'],
  [TicketFlag.OK_AS_DELEGATE, 'O'],
  [TicketFlag.ANONYMOUS, 'a'],
];

/** `FRIA` for a forwardable, renewable, initial, pre-authenticated TGT. */
export function flagLetters(flags: number): string {
  let out = '';
  for (const [mask, letter] of LETTERS) if ((flags & mask) !== 0) out += letter;
  return out;
}
