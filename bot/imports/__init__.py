"""Ad-platform exports (CSV, XLSX) read into rows smx logs as notes."""
