// "Scans": placeholder until the scan-jobs API exists.

export function init() {}
