/**
 * Hours saved by one prefilled dossier, by the method of Circular 02/2017/TT-VPCP
 * (hướng dẫn nghiệp vụ kiểm soát thủ tục hành chính: time costs of compliance) as the
 * public reports on the population database apply it:
 *
 *   - 1 hour per trip avoided: each dossier component cut spares the citizen the trip
 *     to obtain or certify a copy (`tripsAvoided` of the component, default 1);
 *   - 1 hour per form page no longer written by hand: the form's paper pages
 *     (`timeSaved.formPages`) in proportion to the fields the registries filled.
 *
 *   hoursSaved = Σ tripsAvoided(cut components) + formPages × fieldsPrefilled / fieldsTotal
 *
 * rounded to one decimal. Nothing is counted for data that was not retrieved.
 */
export const HOURS_PER_TRIP = 1;
export const HOURS_PER_FORM_PAGE = 1;

export function hoursSaved(formPages: number, fieldsPrefilled: number, fieldsTotal: number, cutTrips: readonly number[]): number {
  const trips = cutTrips.reduce((a, b) => a + b, 0) * HOURS_PER_TRIP;
  const pages = fieldsTotal === 0 ? 0 : (formPages * fieldsPrefilled * HOURS_PER_FORM_PAGE) / fieldsTotal;
  return Math.round((trips + pages) * 10) / 10;
}

/** The method in words, per procedure, for `Procedure.timeSaved.method` and the docs. */
export function hoursMethod(formPages: number, componentTrips: ReadonlyArray<{ code: string; trips: number; replaceable: boolean }>): string {
  const replaceable = componentTrips.filter((c) => c.replaceable);
  const trips = replaceable.length
    ? replaceable.map((c) => `${c.trips} h if ${c.code} is cut`).join(' + ')
    : 'no component can be cut';
  return `${trips}; plus ${formPages} form page(s) × prefilled fields / all fields (1 h per page). Circular 02/2017/TT-VPCP: 1 h per trip avoided, 1 h per hand-written page avoided.`;
}
