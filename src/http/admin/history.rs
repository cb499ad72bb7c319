//! Access history: `GET /api/v1/timeline` (a person's intervals, or who had access to an
//! object, optionally at a time).

use actix_web::{web, HttpRequest, HttpResponse};

use super::{error::AdminError, params::Params, AdminState, Caller};
use crate::timeline::{
    parse_time,
    query::{hierarchy, object_access, person_timeline},
    ObjectKey,
};

/// `GET /api/v1/timeline?person=EMAIL|IAM_ID` or `?object=list:ID[&at=TIME]`.
pub(super) async fn timeline(
    _: Caller,
    request: HttpRequest,
    admin: web::Data<AdminState>,
) -> Result<HttpResponse, AdminError> {
    let params = Params::parse(request.query_string(), &["person", "object", "at"])?;
    let at = params
        .text("at")?
        .map(|text| parse_time(&text).map_err(|e| AdminError::bad("at", e.to_string())))
        .transpose()?;

    match (params.text("person")?, params.text("object")?) {
        (Some(person), None) => {
            if at.is_some() {
                return Err(AdminError::bad("at", "applies to an object, not a person"));
            }
            match person_timeline(&admin.store, &person).await? {
                Some(found) => Ok(HttpResponse::Ok().json(found)),
                None => Err(AdminError::NotFound(
                    "no identity has this email or id".into(),
                )),
            }
        }
        (None, Some(object)) => {
            let object: ObjectKey =
                object
                    .parse()
                    .map_err(|e: crate::timeline::ObjectKeyError| {
                        AdminError::bad("object", e.to_string())
                    })?;
            // A 404 from ClickUp is an unknown hierarchy (with a note); other failures 502.
            let hierarchy = hierarchy(admin.clickup.as_ref(), &object)
                .await
                .map_err(|e| AdminError::clickup(&e))?;
            let access = object_access(&admin.store, &object, hierarchy, at).await?;
            Ok(HttpResponse::Ok().json(access))
        }
        (Some(_), Some(_)) => Err(AdminError::bad("person", "give person or object, not both")),
        (None, None) => Err(AdminError::bad("person", "give person or object")),
    }
}
