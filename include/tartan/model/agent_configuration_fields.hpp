// tartan/model/agent_configuration_fields.hpp — what Tartan does with each AgentConfiguration
// (FelixConfiguration) field, so that none is accepted and ignored without a word.
//
// Every field of the spec has exactly one entry (a unit test walks the spec's description to
// prove it), in one of three states:
//   honoured  the agent acts on it as Felix does;
//   refused   Tartan cannot do what a non-default value asks (eBPF, WireGuard, an encapsulation
//             it does not have): the model's validation refuses any value but the accepted ones,
//             so `tartanctl apply` says why in one line and the file datastore keeps the last
//             valid version;
//   reported  accepted, as Calico's manifests carry it, but without effect yet: when set, the
//             agent says so in its log (one line per field) whenever it reads its configuration.
// docs/agent-configuration.md is this table printed by agentConfigurationFieldTable(); a test
// keeps the two equal, so the document cannot drift from the code.
#pragma once

#include "tartan/model/agent_configuration.hpp"

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tartan::model {

enum class FieldSupport { kHonoured, kRefused, kReported };

struct AgentConfigurationField {
  std::string_view name;  // the JSON name, as in Calico
  FieldSupport support;
  // kRefused: the values accepted, separated by '|' (an unset field is always accepted).
  std::string_view accepted;
  std::string_view note;  // what the agent does with it, or why it cannot
};

// Every field, in Calico's order.
std::span<const AgentConfigurationField> agentConfigurationFields();
const AgentConfigurationField* findAgentConfigurationField(std::string_view name);
// Whether `value` is one of a refused field's accepted values (in any case if `ignoreCase`, as
// environment variables are read).
bool acceptsValue(const AgentConfigurationField& field, std::string_view value, bool ignoreCase = false);

// The names of every field the spec describes, in its order (the model's own description).
std::vector<std::string_view> agentConfigurationSpecFieldNames();

// The fields set in `spec`, as (name, value text: a scalar's text, or JSON for a list or map).
std::vector<std::pair<std::string, std::string>> setAgentConfigurationFields(
    const AgentConfigurationSpec& spec);

// (field, reason) for each set field whose value Tartan refuses.
std::vector<std::pair<std::string, std::string>> refusedAgentConfigurationFields(
    const AgentConfigurationSpec& spec);
// The set fields that are accepted without effect, for the agent to report.
std::vector<std::string> reportedAgentConfigurationFields(const AgentConfigurationSpec& spec);

// The Markdown table of every field and its state (docs/agent-configuration.md).
std::string agentConfigurationFieldTable();

}  // namespace tartan::model
