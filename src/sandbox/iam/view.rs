//! What tests see of the stand-in's requests and tasks, and how request states read in the
//! history list.

/// Where a request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IamRequestState {
    Pending,
    Approved,
    Denied,
    Failed,
}

impl IamRequestState {
    /// `(requestState, processState)` in the history list. Approved (2, 3), denied (1, 3)
    /// and failed (4, 2) were observed on a lab; the pending pair (0, 1) is the stand-in's.
    pub fn pair(self) -> (i64, i64) {
        match self {
            IamRequestState::Pending => (0, 1),
            IamRequestState::Approved => (2, 3),
            IamRequestState::Denied => (1, 3),
            IamRequestState::Failed => (4, 2),
        }
    }

    /// `requestStatus` text.
    pub fn status(self) -> &'static str {
        match self {
            IamRequestState::Pending => "Pending",
            IamRequestState::Approved => "Approved",
            IamRequestState::Denied => "Denied",
            IamRequestState::Failed => "Failed",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IamTaskState {
    Pending,
    Approved,
    Denied,
    /// Closed without a decision because the request was decided by another task.
    Cancelled,
}

/// One approval task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IamTaskView {
    pub task_id: String,
    /// `approval_<n>`, numbered by the approver's place in the PRD.
    pub activity: String,
    pub addressee: String,
    pub state: IamTaskState,
}

/// One permission request as tests inspect it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IamRequestView {
    pub id: String,
    pub confirmation_number: String,
    pub prd: String,
    pub recipient: String,
    pub data: Vec<(String, Vec<String>)>,
    pub state: IamRequestState,
    pub approver: Option<String>,
    pub comment: Option<String>,
    pub tasks: Vec<IamTaskView>,
}
