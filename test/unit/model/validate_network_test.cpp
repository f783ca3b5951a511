// Calico's validation and defaults for IPPool, BGP, Node, IPAM and AgentConfiguration.
#include "test_support.hpp"

using namespace tartan::model;
using namespace tartan::model::test;
using tartan::Error;
