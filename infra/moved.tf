# The root became one consumer of modules/stepstream: existing stacks keep their resources.
moved {
  from = module.results_table
  to   = module.stepstream.module.results_table
}

moved {
  from = module.workflow
  to   = module.stepstream.module.workflow
}

moved {
  from = module.stream_url
  to   = module.stepstream.module.stream_url
}

moved {
  from = module.start_api
  to   = module.stepstream.module.start_api
}
