// SPDX-License-Identifier: GPL-3.0-or-later
// The helper's `list-vms` answer as the UI sees it: the helper's own declarations, type-only, so that
// the two sides cannot drift apart. src/helper-answer.ts checks each answer against them at run time.
export type { DiskSummary, DomainState, DomainSummary, ListVmsAnswer } from "../helper/protocol/vm-types";
