"""HTTP plumbing shared by the API and the pages: the unit of work, authentication, errors."""
