// test/support/kube_test_table.hpp — a custom resource list as the meta.k8s.io/v1 Table the API
// server sends `kubectl get` (Accept: application/json;as=Table) for a CRD with
// additionalPrinterColumns: a Name column, then each printer column's value at its JSONPath (a
// simple ".a.b.c" path; absent is null), a date column as an age ("42s", "5m", "3h", "2d").
#pragma once

#include <nlohmann/json.hpp>

namespace tartan::test {

// `result` is a list (items) or one object; `columns` the CRD version's additionalPrinterColumns.
nlohmann::json printerTable(const nlohmann::json& columns, const nlohmann::json& result);

}  // namespace tartan::test
